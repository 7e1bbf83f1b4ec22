import { EventType, type StoredEvent } from '@gatehouse/core';
import {
  ASCIICAST_MEDIA_TYPE,
  buildAsciicast,
  formatAsciicast,
  hasRecording,
  type SessionLogReader,
} from '@gatehouse/session-log';
import type { AdminRouteSpec } from './admin-api.js';
import { sendError } from './http-util.js';

/** What the recording route reads from the session log. */
export type RecordingReader = Pick<SessionLogReader, 'getSession' | 'events'>;

const PAGE = 1000;

/**
 * `GET /api/sessions/:id/recording[?input=true]` for the admin API: the session's terminal
 * recording as an asciicast v2 file (`application/x-asciicast`), for asciinema players.
 * `input=true` adds what the client typed (typed passwords included), off by default.
 * 404 `not_found` when there is no such session or it recorded no terminal output.
 */
export function recordingRoutes(reader: RecordingReader): AdminRouteSpec[] {
  return [
    {
      method: 'GET',
      pattern: /^\/api\/sessions\/([A-Za-z0-9-]{1,64})\/recording$/,
      handler: (_req, res, { url, match }) => {
        const id = match[1] as string;
        const input = url.searchParams.get('input');
        if (input !== null && input !== 'true' && input !== 'false') {
          return sendError(res, 400, 'bad_request', 'input must be true or false');
        }
        const session = reader.getSession(id);
        if (session === undefined) return sendError(res, 404, 'not_found', 'no such session');
        const events: StoredEvent[] = [];
        for (let after = 0; ; ) {
          const page = reader.events(id, { afterSeq: after, limit: PAGE, types: [EventType.Output] });
          events.push(...page);
          if (page.length < PAGE) break;
          after = page[page.length - 1]?.seq ?? after;
        }
        const cast = buildAsciicast(session, events, { includeInput: input === 'true' });
        if (!hasRecording(cast)) {
          return sendError(res, 404, 'not_found', 'this session has no terminal recording');
        }
        const body = formatAsciicast(cast);
        res.writeHead(200, {
          'content-type': ASCIICAST_MEDIA_TYPE,
          'content-length': Buffer.byteLength(body),
          'content-disposition': `attachment; filename="${id}.cast"`,
          'cache-control': 'no-store',
        });
        res.end(body);
      },
    },
  ];
}
