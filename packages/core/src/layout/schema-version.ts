/** Bumped on any incompatible change of imgbased's JSON output. */
export const SCHEMA_VERSION = 1;
