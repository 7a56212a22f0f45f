import { timingSafeEqual } from "node:crypto";

/**
 * A check of `Authorization` headers against the API token (TRIAD_API_TOKEN): `Bearer <token>`,
 * the scheme in any case (RFC 9110 11.1: it is case-insensitive), the token compared in constant
 * time. One check for the REST API, the dashboard and the A2A gateway.
 */
export function bearerTokenCheck(token: string): (header: string | undefined) => boolean {
  const wanted = Buffer.from(token);
  return (header) => {
    if (header === undefined) return false;
    const space = header.indexOf(" ");
    if (space < 0 || header.slice(0, space).toLowerCase() !== "bearer") return false;
    const given = Buffer.from(header.slice(space + 1).trim());
    return given.length === wanted.length && timingSafeEqual(given, wanted);
  };
}
