import { json } from '@sveltejs/kit';
import { healthReport } from '@podlive/shared/health';
import { version } from '../../../package.json';

export function GET() {
  return json(healthReport('web', version));
}
