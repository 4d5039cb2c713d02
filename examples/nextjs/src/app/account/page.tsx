// Rendered on the server for every request: the HTML sent already shows who is signed in.
// src/proxy.ts has refreshed the session first when the access cookie had expired.
import { redirect } from "next/navigation";

import { serverApi } from "@/api/server";
import { LinkedIdentities } from "@/components/LinkedIdentities";
import { Passkeys } from "@/components/Passkeys";

import { AccountData } from "./AccountData";
import { EndSessionButton, SignOutButton } from "./buttons";

export default async function AccountPage() {
  const api = await serverApi();
  const [me, sessions] = await Promise.all([
    api.GET("/api/auth/me"),
    api.GET("/api/auth/sessions"),
  ]);
  if (!me.data || !sessions.data) redirect("/signin");

  return (
    <>
      <h1>Your account</h1>
      <p>
        Signed in as <strong data-testid="email">{me.data.email}</strong>
        {me.data.email_verified ? "" : " (address not verified yet)"}
      </p>
      <SignOutButton />
      <h2>Sessions</h2>
      <table>
        <thead>
          <tr>
            <th>Device</th>
            <th>Address</th>
            <th>Last used</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {sessions.data.map((session) => (
            <tr key={session.id} data-session-id={session.id}>
              <td>
                {session.device}
                {session.current && " (this one)"}
              </td>
              <td>{session.ip ?? "unknown"}</td>
              <td>
                <time dateTime={session.last_used_at}>{session.last_used_at}</time>
              </td>
              <td>
                <EndSessionButton sessionId={session.id} current={session.current} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <Passkeys />
      <LinkedIdentities />
      <AccountData />
    </>
  );
}
