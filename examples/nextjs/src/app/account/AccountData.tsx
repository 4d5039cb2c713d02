"use client";

import { useState } from "react";

import { api, problem } from "@/api/browser";
import { needsReauthentication, ReauthenticateForm } from "@/components/Reauthenticate";

type Outcome = { response: Response; error?: unknown };

/**
 * "Download my data" and "Delete my account": both need a fresh session, so a 401
 * `insufficient_user_authentication` asks for the password, re-authenticates, and tries again.
 */
export function AccountData() {
  const [retry, setRetry] = useState<(() => Promise<void>) | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function fresh(action: () => Promise<Outcome>, done: (response: Response) => void) {
    const attempt = async () => {
      setError(null);
      const { response, error } = await action();
      if (needsReauthentication(response)) return setRetry(() => attempt);
      setRetry(null);
      if (response.ok) done(response);
      else setError(problem(error, response));
    };
    await attempt();
  }

  async function download() {
    let body: unknown = null;
    await fresh(
      async () => {
        const { data, error, response } = await api.GET("/api/auth/me/export");
        body = data;
        return { response, error };
      },
      () => {
        // The API says `attachment`, but a fetch() answer is not a navigation: save it ourselves.
        const blob = new Blob([JSON.stringify(body, null, 2)], { type: "application/json" });
        const link = document.createElement("a");
        link.href = URL.createObjectURL(blob);
        link.download = "account.json";
        link.click();
        URL.revokeObjectURL(link.href);
      },
    );
  }

  async function deleteAccount() {
    let until = "";
    await fresh(
      async () => {
        const { data, error, response } = await api.DELETE("/api/auth/me");
        until = data?.delete_after ?? "";
        return { response, error };
      },
      // Both cookies are cleared already: a full page load leaves nothing of the account behind.
      () => window.location.assign(`/account-deleted?until=${encodeURIComponent(until)}`),
    );
  }

  return (
    <section>
      <h2>Your data</h2>
      <button type="button" onClick={download}>
        Download my data
      </button>{" "}
      {confirming ? (
        <button type="button" onClick={deleteAccount}>
          Yes, delete my account
        </button>
      ) : (
        <button type="button" onClick={() => setConfirming(true)}>
          Delete my account
        </button>
      )}
      {retry && (
        <ReauthenticateForm
          onDone={() => void retry()}
          onCancel={() => setRetry(null)}
        />
      )}
      {error && <p role="alert">{error}</p>}
    </section>
  );
}
