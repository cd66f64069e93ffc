export * from './users';
export * from './auth';
export * from './sessions';
export * from './stage';
export * from './chat';
export * from './social';
export * from './moderation';
