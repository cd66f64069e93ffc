import type { types } from 'mediasoup';

/**
 * Who is speaking on stage: an AudioLevelObserver over the audio producers of the host and the
 * guests; the loudest above the threshold is the active speaker, silence is null. Only changes
 * are announced, so a steady speaker costs nothing.
 */
export class SpeakerWatch {
  #current: string | null = null;

  private constructor(readonly observer: types.AudioLevelObserver) {}

  static async create(router: types.Router, announce: (userId: string | null) => void): Promise<SpeakerWatch> {
    const observer = await router.createAudioLevelObserver({ maxEntries: 1, threshold: -60, interval: 400 });
    const watch = new SpeakerWatch(observer);
    const set = (userId: string | null) => {
      if (userId === watch.#current) return;
      watch.#current = userId;
      announce(userId);
    };
    observer.on('volumes', (volumes) => set((volumes[0]?.producer.appData.userId as string | undefined) ?? null));
    observer.on('silence', () => set(null));
    return watch;
  }

  get current(): string | null {
    return this.#current;
  }

  /** Audio producers join when created; they leave the observer by themselves when closed. */
  async add(producer: types.Producer): Promise<void> {
    if (producer.kind === 'audio') await this.observer.addProducer({ producerId: producer.id }).catch(() => undefined);
  }
}
