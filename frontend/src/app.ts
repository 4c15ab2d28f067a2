// The application shell: decides between login and the routed views.
import { fetchMe, logout, onUnauthorized, type User } from "./api";
import type { View } from "./dom";
import { onRouteChange, parseRoute, type Route } from "./router";
import { errorMessage } from "./ui/notice";
import { createAccountView } from "./views/account/account";
import { createAdminView } from "./views/admin/admin";
import { createLoginView } from "./views/login";
import { createInviteView } from "./views/invite";
import { createProjectsView } from "./views/projects";
import { SessionView } from "./views/session";

export class App {
  private user: User | null = null;
  private view: View | null = null;

  constructor(private readonly root: HTMLElement) {}

  async start(): Promise<void> {
    onRouteChange((route) => this.route(route));
    onUnauthorized(() => {
      if (this.user) {
        this.user = null;
        this.showLogin();
      }
    });
    try {
      this.user = await fetchMe();
    } catch (error) {
      this.root.textContent = `Cannot reach the server: ${errorMessage(error)}`;
      return;
    }
    if (this.user) this.route(parseRoute());
    else this.showLogin();
  }

  private mount(view: View): void {
    this.view?.dispose();
    this.view = view;
    this.root.replaceChildren(view.el);
    view.start?.();
  }

  private showLogin(): void {
    document.title = "Log in · Analytics IDE";
    this.mount(
      createLoginView((user) => {
        this.user = user;
        this.route(parseRoute());
      }),
    );
  }

  private route(route: Route): void {
    if (!this.user) return;
    const onLogout = (): void => void this.logout();
    if (route.name === "account") {
      document.title = "Account · Analytics IDE";
      this.mount(createAccountView(this.user, onLogout));
    } else if (route.name === "admin") {
      document.title = "Admin · Analytics IDE";
      this.mount(createAdminView(this.user, route.tab, route.project ?? null, onLogout));
    } else if (route.name === "session") {
      document.title = "Session · Analytics IDE";
      this.mount(new SessionView(this.user, route.id, onLogout));
    } else if (route.name === "invite") {
      document.title = "Invitation · Analytics IDE";
      this.mount(createInviteView(this.user, route.code, onLogout));
    } else {
      document.title = "Projects · Analytics IDE";
      this.mount(createProjectsView(this.user, onLogout));
    }
  }

  private async logout(): Promise<void> {
    try {
      await logout();
    } catch {
      // The cookie may already be gone; showing the login form is right either way.
    }
    this.user = null;
    this.showLogin();
  }
}
