/**
 * Running one HTTP request through Apollo Server from a node:http front (no framework
 * integration): checks the request limits, copies the headers, executes, and writes Apollo's status,
 * headers and body. Rejects with the limit's AccordError when the query crosses one, and when
 * Apollo's context function or the socket fails; GraphQL errors are part of the
 * answer Apollo formats (see `graphql-errors.ts`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer, type BaseContext } from '@apollo/server';
import { enforceRequestLimits, type RequestLimits } from './request-limits.js';

export interface ApolloRequest<TContext extends BaseContext> {
  /** The request's URL (its query string carries a GET's parameters). */
  url: URL;
  /** The parsed body (undefined for a GET or an empty body). */
  body: unknown;
  context: () => Promise<TContext>;
  /** Checked before Apollo parses, validates or plans anything (see `request-limits.ts`). */
  limits?: RequestLimits;
}

/** The query text of a GraphQL request (POST body or GET parameter); undefined for a batch or none. */
function queryText(url: URL, body: unknown): string | undefined {
  if (body !== null && typeof body === 'object' && !Array.isArray(body)) {
    const q = (body as { query?: unknown }).query;
    return typeof q === 'string' ? q : undefined;
  }
  return body === undefined ? (url.searchParams.get('query') ?? undefined) : undefined;
}

/** Executes `req` on `apollo` and writes the answer to `res`. */
export async function respondWithApollo<TContext extends BaseContext>(apollo: ApolloServer<TContext>, req: IncomingMessage, res: ServerResponse, request: ApolloRequest<TContext>): Promise<void> {
  if (request.limits) {
    const query = queryText(request.url, request.body);
    if (query !== undefined) enforceRequestLimits(query, request.limits); // throws the limit's AccordError
  }
  const headers = new HeaderMap();
  for (const [key, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
  }
  const response = await apollo.executeHTTPGraphQLRequest({
    httpGraphQLRequest: { method: (req.method ?? 'GET').toUpperCase(), headers, search: request.url.search, body: request.body },
    context: request.context,
  });
  for (const [key, value] of response.headers) res.setHeader(key, value);
  res.statusCode = response.status ?? 200;
  if (response.body.kind === 'complete') {
    res.end(response.body.string);
    return;
  }
  for await (const chunk of response.body.asyncIterator) res.write(chunk);
  res.end();
}
