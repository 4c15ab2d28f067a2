// Admin: a project's git hosting provider (GET/PUT/DELETE /api/projects/{name}/git-provider),
// so "Open pull request" works on a self-hosted GitHub, GitLab or Azure DevOps whose host
// name does not say which it is.
import { deleteGitProvider, getGitProvider, putGitProvider, type GitProvider } from "./client";
import { field, form, input, section, select } from "./forms";

const GUESS = "guess from the host name";
const KINDS = [GUESS, "github", "gitlab", "azure"] as const;

export function gitProviderSection(project: string): { el: HTMLElement; load: () => Promise<void> } {
  const kind = select("git-provider-kind", KINDS, GUESS);
  const webUrl = input("git-provider-web-url", { placeholder: "https://gitlab.example.com" });
  const fill = (setting: GitProvider): void => {
    kind.value = setting.kind ?? GUESS;
    webUrl.value = setting.web_url ?? "";
    webUrl.disabled = kind.value === GUESS;
  };
  kind.addEventListener("change", () => (webUrl.disabled = kind.value === GUESS));
  const el = section(
    "Pull requests",
    "project-git-provider",
    form(
      "git-provider-form",
      [
        field("Provider", kind, "For a self-hosted instance whose host name does not say github or gitlab."),
        field("Web address", webUrl, "Only when the web pages are not on the git remote's host (https://…)."),
      ],
      "Save provider",
      async () => {
        if (kind.value === GUESS) {
          await deleteGitProvider(project);
          fill({ kind: null, web_url: null, guessed: true });
        } else {
          const body: Record<string, string> = { kind: kind.value };
          if (webUrl.value.trim()) body.web_url = webUrl.value.trim();
          fill(await putGitProvider(project, body));
        }
        return "Saved. New sessions use it.";
      },
    ),
  );
  const load = async (): Promise<void> => fill(await getGitProvider(project));
  return { el, load };
}
