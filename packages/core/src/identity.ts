/** Who is on the other end of a connection, as proven by a verified token. */
export interface Identity {
  /** The token's `sub`. */
  readonly subject: string;
  /** Groups from the configured groups claim; empty when the claim is absent. */
  readonly groups: readonly string[];
  /** The token's `iss`. */
  readonly issuer: string;
  /** When the token stops being valid. */
  readonly expiresAt?: Date | undefined;
  /** The token's `jti`, when present; useful in the audit trail, never secret. */
  readonly tokenId?: string | undefined;
}

/** Verifies a bearer token; rejects with an AuthError on any failure. */
export interface TokenVerifier {
  verify(token: string): Promise<Identity>;
}
