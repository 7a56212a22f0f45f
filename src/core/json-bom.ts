/**
 * The text of a JSON body without one leading UTF-8 byte order mark: RFC 8259 8.1 lets a parser
 * ignore one (Windows tools write it), where JSON.parse refused it as "not valid JSON". Only one:
 * a second is neither white space nor JSON.
 */
export function withoutBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
