// The browser's WebAuthn JSON helpers (Chromium 129+, Firefox 119+, Safari 18.4+): the API hands
// out options as WebAuthn JSON and takes back what `credential.toJSON()` gives.
type JsonObject = Record<string, unknown>;

const WebAuthnJson = () =>
  globalThis.PublicKeyCredential as unknown as {
    parseCreationOptionsFromJSON(options: JsonObject): PublicKeyCredentialCreationOptions;
    parseRequestOptionsFromJSON(options: JsonObject): PublicKeyCredentialRequestOptions;
    isConditionalMediationAvailable?: () => Promise<boolean>;
  };

export function passkeysSupported(): boolean {
  return typeof WebAuthnJson()?.parseRequestOptionsFromJSON === "function";
}

export async function conditionalMediationAvailable(): Promise<boolean> {
  const available = WebAuthnJson()?.isConditionalMediationAvailable;
  return passkeysSupported() && !!available && (await available());
}

function asJson(credential: Credential | null): JsonObject {
  if (!credential) throw new Error("No passkey was chosen.");
  return (credential as unknown as { toJSON(): JsonObject }).toJSON();
}

/** navigator.credentials.create() for registration options; the credential as JSON. */
export async function passkeyCreate(options: JsonObject): Promise<JsonObject> {
  const publicKey = WebAuthnJson().parseCreationOptionsFromJSON(options);
  return asJson(await navigator.credentials.create({ publicKey }));
}

/** navigator.credentials.get() for request options; `conditional`: offered in the email field's autofill. */
export async function passkeyGet(
  options: JsonObject,
  { conditional = false, signal }: { conditional?: boolean; signal?: AbortSignal } = {},
): Promise<JsonObject> {
  const publicKey = WebAuthnJson().parseRequestOptionsFromJSON(options);
  const mediation = conditional ? ("conditional" as CredentialMediationRequirement) : undefined;
  return asJson(await navigator.credentials.get({ publicKey, mediation, signal }));
}
