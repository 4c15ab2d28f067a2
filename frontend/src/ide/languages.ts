// Language support per file type, loaded on demand so the first page stays small.
import type { Extension } from "@codemirror/state";

export type LanguageName = "sql" | "yaml" | "markdown" | "jinja" | "text";

export function languageFor(path: string): LanguageName {
  const name = path.toLowerCase();
  if (name.endsWith(".sql")) return "sql";
  if (name.endsWith(".yml") || name.endsWith(".yaml")) return "yaml";
  if (name.endsWith(".md") || name.endsWith(".markdown")) return "markdown";
  if (name.endsWith(".jinja") || name.endsWith(".jinja2") || name.endsWith(".j2")) return "jinja";
  return "text";
}

export async function loadLanguage(name: LanguageName): Promise<Extension> {
  switch (name) {
    case "sql": {
      // dbt models are SQL templated with Jinja: Jinja is the outer language, SQL fills
      // the text between the tags.
      const [{ sql, StandardSQL }, { jinja }] = await Promise.all([
        import("@codemirror/lang-sql"),
        import("@codemirror/lang-jinja"),
      ]);
      return jinja({ base: sql({ dialect: StandardSQL }) });
    }
    case "yaml":
      return (await import("@codemirror/lang-yaml")).yaml();
    case "markdown":
      return (await import("@codemirror/lang-markdown")).markdown();
    case "jinja":
      return (await import("@codemirror/lang-jinja")).jinja();
    case "text":
      return [];
  }
}
