declare module '@zone-eu/mailsplit/lib/headers.js' {
  export default class Headers {
    constructor(headers: Buffer | string);
    hasHeader(key: string): boolean;
    getFirst(key: string): string;
    getDecoded(key: string): { key: string; value: string }[];
    add(key: string, value: string, index?: number): void;
    update(key: string, value: string): void;
    remove(key: string): void;
    getList(): { key: string; line: string }[];
    build(lineEnd?: string): Buffer;
  }
}
declare module 'libmime' {
  const libmime: { decodeWords(text: string): string };
  export default libmime;
}
declare module 'smtp-server/lib/smtp-connection.js' {
  export const SMTPConnection: new (...args: unknown[]) => unknown;
}
