export * from './tokens';
export * from './protocol';
export * from './health';
export * from './handles';
export * from './accounts';
export * from './live';
export * from './stage';
