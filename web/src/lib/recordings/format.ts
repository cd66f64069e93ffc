import type { Recording } from '@podlive/shared/recording';
import { formatDuration } from '$lib/live/format';

/** "1 view", "1,204 views". */
export const viewCount = (views: number) => `${views.toLocaleString('en')} ${views === 1 ? 'view' : 'views'}`;

/** "4:05" or "1:02:05"; null while the length is not known (processing, failed). */
export const recordingLength = (recording: Pick<Recording, 'durationSec'>) =>
  recording.durationSec === null ? null : formatDuration(recording.durationSec);
