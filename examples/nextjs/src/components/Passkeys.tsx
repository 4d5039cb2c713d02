"use client";

import { useCallback, useEffect, useState, type FormEvent } from "react";

import { api, problem } from "@/api/browser";
import type { components } from "@/api/schema";
import { passkeyCreate } from "@/api/webauthn";

type Passkey = components["schemas"]["PasskeyOut"];

/** Whether an answer is the API asking for a fresh session (RFC 9470 step-up). */
function needsReauthentication(response: Response): boolean {
  return response.status === 401 && (response.headers.get("WWW-Authenticate") ?? "").includes("insufficient_user_authentication");
}

/** The account's passkeys: add (the browser creates one), rename, remove. Adding and removing
 *  need a fresh session: on the API's step-up answer, the password is asked for, then the action
 *  is tried again. */
export function Passkeys() {
  const [passkeys, setPasskeys] = useState<Passkey[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [retry, setRetry] = useState<(() => Promise<void>) | null>(null);

  const load = useCallback(async () => {
    const { data, error, response } = await api.GET("/api/auth/passkeys");
    if (data) setPasskeys(data);
    else setError(problem(error, response));
  }, []);
  useEffect(() => {
    load();
  }, [load]);

  /** Run a fresh-session action; on a step-up answer, keep it for after the password prompt. */
  async function fresh(action: () => Promise<Response | null>) {
    setError(null);
    const response = await action();
    if (response && needsReauthentication(response)) {
      setRetry(() => async () => {
        setRetry(null);
        await fresh(action);
      });
    }
  }

  async function add(): Promise<Response | null> {
    const options = await api.POST("/api/auth/passkeys/register/options");
    if (!options.data) {
      if (!needsReauthentication(options.response)) setError(problem(options.error, options.response));
      return options.response;
    }
    let credential;
    try {
      credential = await passkeyCreate(options.data.options);
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : "No passkey was made.");
      return null;
    }
    const made = await api.POST("/api/auth/passkeys/register", {
      body: { challenge_token: options.data.challenge_token, credential },
    });
    if (made.response.ok) await load();
    else setError(problem(made.error, made.response));
    return made.response;
  }

  async function remove(id: number): Promise<Response | null> {
    const { error, response } = await api.DELETE("/api/auth/passkeys/{passkey_id}", {
      params: { path: { passkey_id: String(id) } },
    });
    if (response.ok) await load();
    else if (!needsReauthentication(response)) setError(problem(error, response));
    return response;
  }

  async function rename(event: FormEvent<HTMLFormElement>, id: number) {
    event.preventDefault();
    const name = String(new FormData(event.currentTarget).get("name"));
    const { error, response } = await api.PATCH("/api/auth/passkeys/{passkey_id}", {
      params: { path: { passkey_id: String(id) } },
      body: { name },
    });
    if (response.ok) await load();
    else setError(problem(error, response));
  }

  async function reauthenticate(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const password = String(new FormData(event.currentTarget).get("reauth-password"));
    const { error, response } = await api.POST("/api/auth/reauthenticate", { body: { password } });
    if (!response.ok) return setError(problem(error, response));
    await retry?.();
  }

  return (
    <section aria-label="Passkeys">
      <h2>Passkeys</h2>
      <ul>
        {passkeys.map((passkey) => (
          <li key={passkey.id} data-passkey-id={passkey.id}>
            <form onSubmit={(event) => rename(event, passkey.id)}>
              <input name="name" aria-label="Passkey name" defaultValue={passkey.name} required maxLength={64} />
              <button type="submit">Rename</button>{" "}
              <button type="button" onClick={() => fresh(() => remove(passkey.id))}>
                Remove
              </button>
            </form>
            <small>
              Added <time dateTime={passkey.created_at}>{passkey.created_at}</time>
              {passkey.last_used_at ? `, last used ${passkey.last_used_at}` : ", never used"}
              {passkey.backed_up ? ", synced" : ""}
            </small>
          </li>
        ))}
      </ul>
      <button type="button" onClick={() => fresh(add)}>
        Add a passkey
      </button>
      {retry && (
        <form onSubmit={reauthenticate}>
          <p>Confirm it is you: enter your password.</p>
          <label>
            Password
            <input name="reauth-password" type="password" autoComplete="current-password" required />
          </label>
          <button type="submit">Confirm</button>
        </form>
      )}
      {error && <p role="alert">{error}</p>}
    </section>
  );
}
