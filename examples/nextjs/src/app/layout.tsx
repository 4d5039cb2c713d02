import type { Metadata } from "next";
import Link from "next/link";
import type { ReactNode } from "react";

import "./globals.css";

export const metadata: Metadata = { title: "Accounts example" };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <nav>
          <Link href="/account" prefetch={false}>Account</Link>
          <Link href="/signin">Sign in</Link>
          <Link href="/signup">Sign up</Link>
          <Link href="/reset-password">Forgot password</Link>
        </nav>
        <main>{children}</main>
      </body>
    </html>
  );
}
