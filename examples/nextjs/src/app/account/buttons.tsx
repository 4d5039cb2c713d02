"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";

import { api, problem } from "@/api/browser";

export function SignOutButton() {
  const [error, setError] = useState<string | null>(null);

  async function signOut() {
    // No body: the API reads the refresh cookie, ends the session and clears both cookies.
    const { error, response } = await api.POST("/api/auth/signout");
    if (!response.ok) return setError(problem(error, response));
    // A full page load, so no page of the signed-in user stays in the router's memory.
    window.location.assign("/signin");
  }

  return (
    <>
      <button type="button" onClick={signOut}>
        Sign out
      </button>
      {error && <p role="alert">{error}</p>}
    </>
  );
}

export function EndSessionButton({ sessionId, current }: { sessionId: string; current: boolean }) {
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);

  async function end() {
    const { error, response } = await api.DELETE("/api/auth/sessions/{session_id}", {
      params: { path: { session_id: sessionId } },
    });
    if (!response.ok) return setError(problem(error, response));
    // Ending this very session signs this browser out: the page then sends it to /signin.
    if (current) window.location.assign("/signin");
    else router.refresh();
  }

  return (
    <>
      <button type="button" onClick={end}>
        End session
      </button>
      {error && <span role="alert">{error}</span>}
    </>
  );
}
