/**
 * A cookie jar around Node's `fetch`, for code that expects a browser's cookie handling (the
 * generated typed client): it sends the cookies it holds and keeps the ones servers set. One
 * jar is one browser; cookies are kept by name, whatever the host or path.
 */
export class CookieJar {
  private readonly cookies = new Map<string, string>();

  /** A cookie's value, URL-decoded, or null. */
  get = (name: string): string | null => {
    const value = this.cookies.get(name);
    return value === undefined ? null : decodeURIComponent(value);
  };

  /** `fetch` with this jar's cookies. */
  fetch = async (input: string, init: RequestInit = {}): Promise<Response> => {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0) headers.set("Cookie", [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; "));
    const response = await fetch(input, { ...init, headers });
    for (const line of response.headers.getSetCookie()) {
      const pair = line.split(";")[0]!;
      const split = pair.indexOf("=");
      const name = pair.slice(0, split).trim();
      const expired = /expires=Thu, 01 Jan 1970/i.test(line) || /max-age=0(?:;|$)/i.test(line);
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, pair.slice(split + 1).trim());
    }
    return response;
  };
}
