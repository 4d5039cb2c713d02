"use client";

import { useState } from "react";

/** One button that spends an emailed link's token; mail scanners open links, but never press it. */
export function TokenAction({
  label,
  action,
}: {
  label: string;
  action: () => Promise<{ ok: boolean; message: string }>;
}) {
  const [result, setResult] = useState<{ ok: boolean; message: string } | null>(null);
  const [busy, setBusy] = useState(false);

  async function run() {
    setBusy(true);
    setResult(await action());
    setBusy(false);
  }

  if (result?.ok) return <p role="status">{result.message}</p>;
  return (
    <>
      <button type="button" onClick={run} disabled={busy}>
        {label}
      </button>
      {result && <p role="alert">{result.message}</p>}
    </>
  );
}
