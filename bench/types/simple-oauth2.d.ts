// The part of simple-oauth2 5.x the do-it-yourself peer uses (the package ships no types, and the
// bench installs nothing else).
declare module 'simple-oauth2' {
  export interface ModuleOptions {
    client: { id: string; secret: string };
    auth: { tokenHost: string; tokenPath?: string };
    options?: { authorizationMethod?: 'header' | 'body' };
  }

  export interface AccessToken {
    readonly token: { readonly access_token: string; readonly expires_at: Date; readonly [key: string]: unknown };
    /** True when the token expires within `expirationWindowSeconds` (Date.now() based). */
    expired(expirationWindowSeconds?: number): boolean;
  }

  export class ClientCredentials {
    constructor(options: ModuleOptions);
    getToken(params: { scope?: string | string[] }): Promise<AccessToken>;
  }
}
