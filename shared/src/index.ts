export * from './tokens';
export * from './protocol';
export * from './health';
