// A real OpenID Connect provider for the tests: the `oidc-provider` package
// with its development sign-in pages (any login name is an account whose
// subject is that name). Lotsen talks to it as to a municipality's.
import Provider from "oidc-provider";
import { once } from "node:events";
import { randomBytes } from "node:crypto";

/** Starts the provider on `port` with one client; resolves when it listens. */
export async function startProvider({ port, clientId, clientSecret, redirectUri }) {
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [redirectUri],
        grant_types: ["authorization_code"],
        response_types: ["code"],
      },
    ],
    pkce: { required: () => true },
    cookies: { keys: [randomBytes(32).toString("hex")] },
    ttl: { Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 600, IdToken: 600 },
  });
  const server = provider.listen(port, "127.0.0.1");
  await once(server, "listening");
  return {
    issuer,
    async stop() {
      server.closeAllConnections?.();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
