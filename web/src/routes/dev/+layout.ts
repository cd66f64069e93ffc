// Media pages run in the browser only (WebRTC, getUserMedia).
export const ssr = false;
