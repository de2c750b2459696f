/**
 * Running one HTTP request through Apollo Server from a node:http front (no framework
 * integration): copies the headers, executes, and writes Apollo's status, headers and body.
 * Rejects only when Apollo's context function or the socket fails; GraphQL errors are part of the
 * answer Apollo formats (see `graphql-errors.ts`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer, type BaseContext } from '@apollo/server';

export interface ApolloRequest<TContext extends BaseContext> {
  /** The request's URL (its query string carries a GET's parameters). */
  url: URL;
  /** The parsed body (undefined for a GET or an empty body). */
  body: unknown;
  context: () => Promise<TContext>;
}

/** Executes `req` on `apollo` and writes the answer to `res`. */
export async function respondWithApollo<TContext extends BaseContext>(apollo: ApolloServer<TContext>, req: IncomingMessage, res: ServerResponse, request: ApolloRequest<TContext>): Promise<void> {
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
