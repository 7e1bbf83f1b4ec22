import { ErrorCode, type GatewayError } from '@gatehouse/core';
import type { SqlAnalysisErrorCode } from '../sql/index.js';
import { type ErrorSeverity, errorResponse } from '../wire/index.js';

/** SQLSTATEs the gateway itself answers with; docs/postgres.md lists them. */
export const SqlState = {
  /** A rule denied the statement, an approver denied it, or no approver answered in time. */
  InsufficientPrivilege: '42501',
  /** The gateway's parser could not parse the statement. */
  SyntaxError: '42601',
  InvalidPassword: '28P01',
  InvalidAuthorization: '28000',
  InvalidCatalogName: '3D000',
  FeatureNotSupported: '0A000',
  InvalidParameterValue: '22023',
  CharacterNotInRepertoire: '22021',
  ProgramLimitExceeded: '54000',
  StatementTooComplex: '54001',
  /** The session log cannot record the statement, so it was not forwarded. */
  IoError: '58030',
  ProtocolViolation: '08P01',
  ConnectionFailure: '08006',
  UnableToConnect: '08001',
  AdminShutdown: '57P01',
  InternalError: 'XX000',
} as const;

export function sqlError(
  code: string,
  message: string,
  extra: { hint?: string; detail?: string } = {},
  severity: ErrorSeverity = 'ERROR',
): Buffer {
  return errorResponse({ severity, code, message, ...extra });
}

export function fatal(code: string, message: string, extra: { hint?: string; detail?: string } = {}): Buffer {
  return sqlError(code, message, extra, 'FATAL');
}

/** An ErrorResponse for a command that `session.execute` refused. */
export function refusalError(error: GatewayError): Buffer {
  switch (error.code) {
    case ErrorCode.PolicyDenied:
    case ErrorCode.ApprovalDenied:
    case ErrorCode.ApprovalTimeout:
      return sqlError(SqlState.InsufficientPrivilege, error.message);
    case ErrorCode.LogUnavailable:
      return sqlError(
        SqlState.IoError,
        `session log unavailable, so the statement was not forwarded: ${error.message}`,
      );
    case ErrorCode.ShuttingDown:
      return fatal(SqlState.AdminShutdown, error.message);
    case ErrorCode.AuthFailed:
    case ErrorCode.AccessDenied:
      return sqlError(SqlState.InvalidAuthorization, error.message);
    default:
      return sqlError(SqlState.InternalError, `the gateway could not judge the statement: ${error.message}`);
  }
}

/** An ErrorResponse for a statement the analyzer refused: the gateway forwards nothing it cannot judge. */
export function analysisError(code: SqlAnalysisErrorCode, why: string, position?: number): Buffer {
  const state: Record<SqlAnalysisErrorCode, string> = {
    syntax_error: SqlState.SyntaxError,
    too_long: SqlState.ProgramLimitExceeded,
    too_complex: SqlState.StatementTooComplex,
    invalid_text: SqlState.CharacterNotInRepertoire,
    unavailable: SqlState.InternalError,
    internal: SqlState.InternalError,
  };
  return errorResponse({
    severity: 'ERROR',
    code: state[code],
    message: `statement could not be parsed; the gateway does not forward what it cannot judge: ${why}`,
    ...(position === undefined ? {} : { position }),
  });
}
