import { ControlApi } from './control-api';
import { FilePublisher } from './file-publisher';
import { RemoteHost, type RemoteProducer } from './remote-host';

export interface PublishOptions {
  /** A verified account's email and password (going live needs a verified email). */
  email: string;
  password: string;
  /** The live's title (default `podlive-load <ISO time>`). */
  title: string;
  /** Simulcast layers of the video: 3 (180p/360p/720p, default) or 1 (720p). */
  layers: 1 | 3;
}

/** A live this process created, started and feeds. */
export interface PublishedLive {
  session: string;
  publisher: FilePublisher<RemoteProducer>;
  /** Stops the host's media and ends the live (POST /api/live/:id/end). Twice does nothing. */
  end(): Promise<void>;
}

/**
 * `--publish`: what a host does in the web app, without a browser: log in, create a live, start it,
 * and publish the FilePublisher's clip (simulcast H.264 and Opus) to the node the start answer
 * names, over WebRTC (RemoteHost). A failure after the live was created ends it.
 */
export async function publishLive(url: string, o: PublishOptions): Promise<PublishedLive> {
  const api = new ControlApi(url);
  await api.login(o.email, o.password);
  const live = await api.createLive(o.title);
  let publisher: FilePublisher<RemoteProducer>;
  try {
    const { join } = await api.startLive(live.id);
    publisher = await FilePublisher.over(() => RemoteHost.join(join), { layers: o.layers });
  } catch (err) {
    await api.endLive(live.id).catch(() => undefined);
    throw err;
  }
  let ended: Promise<void> | undefined;
  return {
    session: live.id,
    publisher,
    end: () => {
      ended ??= (async () => {
        publisher.close();
        await api.endLive(live.id);
      })();
      return ended;
    },
  };
}
