/**
 * The incoming-call ring, made with WebAudio (no sound files): two short 440/480 Hz bursts every
 * two seconds, like a phone. Browsers may keep the context suspended until the page was clicked;
 * then it simply stays silent.
 */
export function startRing(): () => void {
  const Context = window.AudioContext;
  if (typeof Context !== 'function') return () => undefined;
  const context = new Context();
  const gain = context.createGain();
  gain.gain.value = 0;
  gain.connect(context.destination);
  const tones = [440, 480].map((frequency) => {
    const oscillator = context.createOscillator();
    oscillator.frequency.value = frequency;
    oscillator.connect(gain);
    oscillator.start();
    return oscillator;
  });
  const burst = () => {
    const t = context.currentTime;
    for (const [start, end] of [[0, 0.4], [0.6, 1.0]] as const) {
      gain.gain.setValueAtTime(0.08, t + start);
      gain.gain.setValueAtTime(0, t + end);
    }
  };
  void context.resume().catch(() => undefined);
  burst();
  const timer = setInterval(burst, 2000);
  return () => {
    clearInterval(timer);
    for (const oscillator of tones) oscillator.stop();
    void context.close().catch(() => undefined);
  };
}
