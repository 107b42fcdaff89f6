// A real OpenID Connect provider for the sign-in tests: oidc-provider (OpenID-certified) with
// its own login and consent pages. The tests start it and hand it everything it knows:
//
//   node provider.mjs <port> '<json>'
//
// where the JSON is {"users": {"<login>": {"email": ..., "name": ...}}, "clients": [...]}.
// Any password signs a known user in; an unknown login is refused. It prints "ready <issuer>"
// once it listens on 127.0.0.1 only.
import Provider from 'oidc-provider';

const [port, spec] = [Number(process.argv[2]), JSON.parse(process.argv[3])];
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: spec.clients,
  findAccount: async (ctx, id) => {
    const user = spec.users[id];
    if (!user) return undefined;
    return {
      accountId: id,
      claims: async () => ({ sub: id, email: user.email, email_verified: true, name: user.name }),
    };
  },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  // The ID token carries the scopes' claims, as Google, Entra, Okta and Auth0 send them:
  // Streamlit reads the person from the ID token.
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: true } },
  pkce: { required: () => false },
  cookies: { keys: ['comment-desk-test-cookie-key'] },
  ttl: { Session: 3600, Interaction: 600, Grant: 3600, AccessToken: 600, IdToken: 600 },
});
provider.proxy = false;

provider.listen(port, '127.0.0.1', () => {
  console.log(`ready ${issuer}`);
});
