import type {
  blocks, chatBans, chatMessages, follows, inviteStatus, liveSessions, notifications, oneTimeCodes,
  otpPurpose, pinnedMessages, recordings, recordingStatus, refreshTokenFamilies, reports, retiredRefreshTokens,
  reportStatus, reportTarget, sessionCategory, sessionStatus, stageInvites, users,
} from './schema';

// Rows as read (`Foo`) and as inserted (`NewFoo`, defaults optional).
export type User = typeof users.$inferSelect;
export type NewUser = typeof users.$inferInsert;
export type RefreshTokenFamily = typeof refreshTokenFamilies.$inferSelect;
export type NewRefreshTokenFamily = typeof refreshTokenFamilies.$inferInsert;
export type RetiredRefreshToken = typeof retiredRefreshTokens.$inferSelect;
export type OneTimeCode = typeof oneTimeCodes.$inferSelect;
export type NewOneTimeCode = typeof oneTimeCodes.$inferInsert;
export type LiveSession = typeof liveSessions.$inferSelect;
export type NewLiveSession = typeof liveSessions.$inferInsert;
export type StageInvite = typeof stageInvites.$inferSelect;
export type NewStageInvite = typeof stageInvites.$inferInsert;
export type Recording = typeof recordings.$inferSelect;
export type NewRecording = typeof recordings.$inferInsert;
export type Follow = typeof follows.$inferSelect;
export type NewFollow = typeof follows.$inferInsert;
export type ChatMessage = typeof chatMessages.$inferSelect;
export type NewChatMessage = typeof chatMessages.$inferInsert;
export type ChatBan = typeof chatBans.$inferSelect;
export type NewChatBan = typeof chatBans.$inferInsert;
export type PinnedMessage = typeof pinnedMessages.$inferSelect;
export type NewPinnedMessage = typeof pinnedMessages.$inferInsert;
export type Report = typeof reports.$inferSelect;
export type NewReport = typeof reports.$inferInsert;
export type Block = typeof blocks.$inferSelect;
export type NewBlock = typeof blocks.$inferInsert;
export type Notification = typeof notifications.$inferSelect;
export type NewNotification = typeof notifications.$inferInsert;

// Enum values as string unions.
export type OtpPurpose = (typeof otpPurpose.enumValues)[number];
export type SessionCategory = (typeof sessionCategory.enumValues)[number];
export type SessionStatus = (typeof sessionStatus.enumValues)[number];
export type RecordingStatus = (typeof recordingStatus.enumValues)[number];
export type InviteStatus = (typeof inviteStatus.enumValues)[number];
export type ReportTarget = (typeof reportTarget.enumValues)[number];
export type ReportStatus = (typeof reportStatus.enumValues)[number];
