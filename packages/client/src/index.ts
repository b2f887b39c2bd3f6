/**
 * @packageDocumentation
 * The client of imgbased's daemon: typed calls over its Unix socket (errors come back as the same
 * typed errors), the API's route table that the daemon serves from, and its OpenAPI document.
 */

export * from './api.js';
export { type ClientOptions, ImgbasedClient, parseSse, type RawResponse } from './client.js';
export { openApiDocument } from './openapi.js';
