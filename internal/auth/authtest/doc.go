// Package authtest runs real OAuth2/OpenID Connect providers on 127.0.0.1
// for tests, and drives their login pages from Go or from headless Chromium.
// It is imported only by tests.
//
// Two providers, one API (*Provider):
//
//   - StartOIDCProvider runs the npm package oidc-provider (directory
//     oidc-provider/) configured like KeyCloak: issuer
//     http://127.0.0.1:<port>/realms/<realm>, KeyCloak's endpoint paths,
//     opaque access tokens whose introspection carries username,
//     preferred_username, realm_access and resource_access (service accounts
//     are "service-account-<client_id>"), introspection only for confidential
//     clients, registration only with an initial access token, and the
//     registration access token rotated on every use, GET included.
//   - StartHydra runs Ory Hydra v2.3.0 (built by scripts/setup-auth-test.sh)
//     with an in-memory database and anonymous dynamic client registration.
//     Its login and consent app is an httptest server here. Introspection is
//     on the admin API (Provider.IntrospectionURL), unauthenticated; the user
//     name is in "ext.username".
//
// Both serve a login form with KeyCloak's element ids (#username, #password,
// #kc-login), so BrowserLogin and Provider.HTTPLogin work on either, and both
// grant every requested scope without a consent page. Each provider starts
// with Config.ServerClient (confidential) and Config.PublicClient
// (compute_public, PKCE, redirect http://127.0.0.1:8888 with and without the
// trailing slash); Provider.SetClient adds or replaces clients later, for
// example once the server under test knows its port.
//
// Clients talk to a provider through a TCP front on a fixed port: Stop closes
// it and every open connection (the provider looks down: connection refused)
// and Start opens it again with all tokens and clients intact.
//
// Missing tools (node, the npm packages, the Hydra binary, chromium) fail
// the test with "run scripts/setup-auth-test.sh"; nothing is skipped. The
// Hydra binary is $COMPUTEWPS_HYDRA, or
// ${XDG_CACHE_HOME:-$HOME/.cache}/compute-wps/hydra-v2.3.0.
package authtest
