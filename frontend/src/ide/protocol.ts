// Shapes of the IDE protocol messages this client uses (docs/protocol.md).
import type { Role } from "../api";

export interface FsEntry {
  name: string;
  path: string;
  type: "file" | "directory";
  size: number;
  mtime: number;
}

export interface FsListResult {
  path: string;
  entries: FsEntry[];
}

export interface FsChanged {
  path: string;
  kind: "write" | "delete" | "rename" | "mkdir";
  new_path?: string;
}

export interface SessionStatus {
  user: string;
  role: Role;
  session_id: string;
  methods: string[];
}

export const ErrorCode = {
  forbidden: -32001,
  invalidPath: -32002,
  notFound: -32003,
  alreadyExists: -32004,
  notText: -32005,
  conflict: -32006,
  unavailable: -32007,
} as const;
