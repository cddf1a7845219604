/**
 * Entry of the playground (README.md): signs in from the URL fragment or the form, picks the
 * workspace, then runs {@link PlaygroundApp} on a {@link DiaryxClient}.
 */
import { DiaryxClient } from '@diaryx-sync/client';
import { byId } from './dom';
import { HttpApi } from './http-api';
import { PlaygroundApp } from './playground-app';
import { decodeClaims, parseSignIn, signInHash, type SignIn } from './sign-in';
import { playgroundTokenProvider } from './token-provider';

async function main(): Promise<void> {
  const signIn = parseSignIn(location.hash);
  if (!signIn) return showSignInForm();
  const claims = decodeClaims(signIn.token);
  if (!claims) return showSignInForm('That is not a token of this cluster (a JWT).');
  const api = new HttpApi(signIn.token);
  const workspace = signIn.workspace ?? (await pickWorkspace(api, claims.ws));
  if (!workspace) return showSignInForm('This token covers no workspace.');
  const client = new DiaryxClient({
    url: location.origin,
    workspaceId: workspace,
    token: playgroundTokenProvider(signIn, claims, api, workspace),
  });
  new PlaygroundApp(client, api, workspace, signIn.name ?? claims.sub).start();
}

async function pickWorkspace(api: HttpApi, covered: readonly string[]): Promise<string | null> {
  if (covered.length === 1 && covered[0] !== '*') return covered[0]!;
  const listed = await api.workspaces();
  return listed[0]?.id ?? null;
}

function showSignInForm(error?: string): void {
  const form = byId<HTMLFormElement>('sign-in');
  form.hidden = false;
  if (error) {
    const notice = byId('notice');
    notice.hidden = false;
    notice.textContent = error;
  }
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const value = (name: string) => (form.elements.namedItem(name) as HTMLInputElement).value.trim();
    const next: Partial<SignIn> & { token: string } = {
      token: value('token'),
      workspace: value('workspace') || null,
      name: value('name') || null,
    };
    location.hash = signInHash(next);
    location.reload();
  });
}

window.addEventListener('hashchange', () => location.reload());
main().catch((err: unknown) => {
  const notice = byId('notice');
  notice.hidden = false;
  notice.textContent = `Could not start: ${err instanceof Error ? err.message : String(err)}`;
});
