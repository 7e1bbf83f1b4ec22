import type { Logger } from '@gatehouse/core';
import type { TokenEndpoint } from '@gatehouse/identity';
import type { OpenRouteSpec } from './admin-api.js';
import { readTextBody, sendJson } from './http-util.js';

/** Where the development issuer's token endpoint is served on the admin API. */
export const TOKEN_ENDPOINT_PATH = '/oauth/token';

const MAX_BODY_BYTES = 16 * 1024;

/**
 * `POST /oauth/token`: the development issuer's client-credentials grant over HTTP. Answers carry
 * `Cache-Control: no-store` (RFC 6749 §5.1). The gateway's log says which configured client got a
 * token or was refused — never the secret, the token, or a client id nobody configured (a secret
 * pasted into the id field must not end up in the log).
 */
export function tokenRoute(endpoint: TokenEndpoint, logger: Logger): OpenRouteSpec {
  return {
    method: 'POST',
    path: TOKEN_ENDPOINT_PATH,
    handler: async (req, res) => {
      let body: string;
      try {
        body = await readTextBody(req, MAX_BODY_BYTES);
      } catch {
        res.setHeader('pragma', 'no-cache');
        return sendJson(res, 400, { error: 'invalid_request', error_description: 'request body too large' });
      }
      const answer = await endpoint({
        authorization: req.headers.authorization,
        contentType: req.headers['content-type'],
        body,
      });
      res.setHeader('pragma', 'no-cache');
      if (answer.ok) {
        logger.info(
          { client: answer.client.id, sub: answer.client.subject, expiresIn: answer.body.expires_in },
          'development token issued',
        );
      } else {
        if (answer.status === 401) res.setHeader('www-authenticate', 'Basic realm="gatehouse"');
        logger.warn(
          { error: answer.body.error, ...(answer.clientId === undefined ? {} : { client: answer.clientId }) },
          'development token request refused',
        );
      }
      sendJson(res, answer.status, answer.body);
    },
  };
}
