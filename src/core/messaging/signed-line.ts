/**
 * A signed message as one line of text, written so the receiver can check the signature over the
 * bytes it read instead of rebuilding them.
 *
 * A message's signature covers its canonical JSON without `signature` (canonical-json.ts). The
 * members of a message sort as metadata, payload, recipient, sender, signature, type, so that text
 * ends with the `type` member, and the message with its signature in canonical order is the same
 * text with `,"signature":"…"` put just before it. That is what a sender writes (`withSignature`),
 * and what a receiver takes apart again (`splitSignature`): the rest is the very text that was
 * signed, which it verifies and parses, with no canonical walk and no second serialisation on
 * either side. A line written any other way (another implementation, another member order) is
 * read and checked as before; JSON member order carries no meaning.
 */

const TYPE_MEMBER = ',"type":"';
const SIGNATURE_MEMBER = ',"signature":"';

/**
 * What a signature of `signatureLength` characters adds to the text it covers, written as
 * withSignature writes it (`,"signature":"…"`): the message's bytes on the wire, counted before
 * it is signed.
 */
export function signedLineBytes(signatureLength: number): number {
  return SIGNATURE_MEMBER.length + signatureLength + 1;
}

/**
 * `text` (a message's canonical JSON without its signature) with `signature` in its place;
 * undefined when that cannot be written so (the caller then serialises the message object).
 */
export function withSignature(text: string, signature: string): string | undefined {
  const at = text.lastIndexOf(TYPE_MEMBER);
  if (at < 0 || !plainSignature(signature)) return undefined;
  return `${text.slice(0, at)}${SIGNATURE_MEMBER}${signature}"${text.slice(at)}`;
}

/**
 * The text a line's signature covers, and the signature, when the line was written as
 * `withSignature` writes (its last two members `signature` and `type`); null otherwise. Nothing
 * here says the text is authentic: that is the signature check's.
 */
export function splitSignature(line: string): { text: string; signature: string } | null {
  const typeAt = line.lastIndexOf(TYPE_MEMBER);
  if (
    typeAt < 0 ||
    !line.endsWith('"}') ||
    line.indexOf('"', typeAt + TYPE_MEMBER.length) !== line.length - 2
  )
    return null;
  const at = line.lastIndexOf(SIGNATURE_MEMBER, typeAt);
  if (at < 0) return null;
  const start = at + SIGNATURE_MEMBER.length;
  if (line.charCodeAt(typeAt - 1) !== 0x22 /* " */) return null;
  const signature = line.slice(start, typeAt - 1);
  if (!plainSignature(signature)) return null;
  return { text: line.slice(0, at) + line.slice(typeAt), signature };
}

/** Signatures are short tokens (hex, or `ed25519:` and base64url): nothing to escape in them. */
function plainSignature(signature: string): boolean {
  return signature.length > 0 && signature.length <= 256 && /^[A-Za-z0-9:_=+/.-]+$/.test(signature);
}

/** A line read off a message stream, admitted as text (see MessageGate.admitLine). */
export class ReceivedLine {
  constructor(readonly text: string) {}
}
