// Conventions every component's HTTP API follows, so meshctl and the console read them alike.

/** `GET /ready` on every component answers this; 200 when ready, 503 otherwise. */
export interface ReadyReport {
  component: string;
  ready: boolean;
  /** Why not ready, or anything a person should know. */
  detail?: string;
  version?: string;
}

/** Error bodies carry a stable code (fastify style) and a message. */
export interface ApiError {
  code: string;
  message: string;
}
