import { createSocket } from 'node:dgram';

/**
 * FFmpeg acts on its first SIGINT only between two packets: when no media arrives any more (the
 * host left, the producer closed) it sits in a blocking read and never finalizes, and a second
 * SIGINT aborts its file writes too (truncated playlist). Its RTP demuxer ends the input cleanly
 * (EOF: trailer written, last segment flushed) once it has received as many RTCP BYE packets as
 * the SDP has streams; this sends one BYE to each stream's RTCP port.
 */
export async function sendRtcpBye(ip: string, rtcpPorts: readonly number[]): Promise<void> {
  // V=2, P=0, SC=2 | PT=203 (BYE) | length 2 (32-bit words - 1) | two SSRCs. Two, because FFmpeg
  // drops any RTP/RTCP datagram shorter than 12 bytes before looking at it.
  const bye = Buffer.from([0x82, 203, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0]);
  const socket = createSocket(ip.includes(':') ? 'udp6' : 'udp4');
  socket.on('error', () => undefined);
  try {
    await Promise.all(rtcpPorts.map((port) => new Promise<void>((resolve) => socket.send(bye, port, ip, () => resolve()))));
  } finally {
    socket.close();
  }
}
