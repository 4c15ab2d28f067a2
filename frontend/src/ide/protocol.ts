// Shapes of the IDE protocol messages (docs/protocol.md), all from the file generated from
// the pod's registry: nothing here is written by hand, so nothing can drift from the pod.
export type {
  FsChanged,
  FsEntry,
  FsListResult,
  MethodName,
  Methods,
  NotificationName,
  Notifications,
  SessionStatus,
  WarehouseInUse,
} from "./generated/protocol";
export { ErrorCode } from "./generated/protocol";
