import type { types } from 'mediasoup-client';

export interface RecoveryActions {
  /** Asks the node for new ICE parameters and restarts ICE on this transport. */
  restartIce(transport: types.Transport): Promise<void>;
  /** Gives up on this transport: a new one replaces it (and its consumers/producers). */
  replace(transport: types.Transport): Promise<void>;
  onState(state: 'connected' | 'reconnecting'): void;
}

/** How long a `disconnected` transport may stay so before an ICE restart (it often comes back alone). */
export const DISCONNECTED_GRACE_MS = 1500;
/** How long an ICE restart may take before the transport is replaced. */
export const RESTART_TIMEOUT_MS = 5000;

/**
 * Watches one transport's connection state and recovers it without a page reload:
 * disconnected for a moment → ICE restart; failed, or a restart that does not reconnect in time →
 * a new transport.
 */
export function watchTransport(transport: types.Transport, actions: RecoveryActions): void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let restarting = false;
  /** One ICE restart per outage; if it doesn't bring the transport back, replace it. */
  let restartedSinceConnected = false;
  const clear = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
  };
  const replace = () => {
    clear();
    if (!transport.closed) void actions.replace(transport);
  };
  const restart = async () => {
    if (restarting || transport.closed) return;
    if (restartedSinceConnected) return replace();
    restarting = true;
    restartedSinceConnected = true;
    actions.onState('reconnecting');
    timer = setTimeout(replace, RESTART_TIMEOUT_MS);
    try {
      await actions.restartIce(transport);
    } catch {
      replace();
    } finally {
      restarting = false;
    }
  };
  transport.on('connectionstatechange', (state) => {
    if (state === 'connected') {
      clear();
      restartedSinceConnected = false;
      actions.onState('connected');
    } else if (state === 'disconnected') {
      clear();
      actions.onState('reconnecting');
      timer = setTimeout(() => void restart(), DISCONNECTED_GRACE_MS);
    } else if (state === 'failed') {
      clear();
      void restart();
    }
  });
  transport.observer.on('close', clear);
}
