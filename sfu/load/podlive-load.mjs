#!/usr/bin/env node
// The podlive-load command: loads tsx, then the TypeScript CLI (see load/cli.ts).
import { register } from 'tsx/esm/api';

register();
await import('./cli.ts');
