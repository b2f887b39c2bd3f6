// imgbased's peer credentials: who is at the other end of a connected Unix socket, as the kernel
// recorded it when that process called connect(2). SO_PEERCRED gives pid, uid and gid; SO_PEERGROUPS
// (Linux 4.13) the supplementary groups, so membership of `imgbased` is decided from what the kernel
// knows, not from /etc/group. Node-API only (ABI-stable across Node versions): one build serves every
// Node >= 20 on the machine. Built by apps/daemon/build-native.mjs (run by build.mjs) with cc.
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <node_api.h>

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59
#endif

#define CHECK(call)                                                                                   \
  do {                                                                                                \
    if ((call) != napi_ok) {                                                                          \
      napi_throw_error(env, "EPEERCRED_NAPI", "peercred: a Node-API call failed");                    \
      return NULL;                                                                                    \
    }                                                                                                 \
  } while (0)

static napi_value fail(napi_env env, const char *what, int error) {
  char message[256];
  snprintf(message, sizeof message, "peercred: %s: %s", what, strerror(error));
  napi_throw_error(env, strerrorname_np(error) ? strerrorname_np(error) : "EPEERCRED", message);
  return NULL;
}

static napi_value set_number(napi_env env, napi_value object, const char *key, double value) {
  napi_value number;
  if (napi_create_double(env, value, &number) != napi_ok) return NULL;
  if (napi_set_named_property(env, object, key, number) != napi_ok) return NULL;
  return object;
}

/* peerCredentials(fd) -> { pid, uid, gid, groups: number[] }; throws with code = errno name. */
static napi_value peer_credentials(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    napi_throw_type_error(env, "EINVAL", "peercred: the argument must be a file descriptor");
    return NULL;
  }

  struct ucred cred;
  socklen_t length = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &length) != 0) return fail(env, "SO_PEERCRED", errno);
  if (length != sizeof cred) return fail(env, "SO_PEERCRED", EPROTO);

  // The kernel says how much room the groups need (ERANGE); a caller in hundreds of groups is rare.
  socklen_t size = 64 * sizeof(gid_t);
  gid_t *groups = malloc(size);
  if (!groups) return fail(env, "SO_PEERGROUPS", ENOMEM);
  while (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &size) != 0) {
    int error = errno;
    gid_t *bigger = error == ERANGE ? realloc(groups, size) : NULL;
    if (!bigger) {
      free(groups);
      return fail(env, "SO_PEERGROUPS", error == ERANGE ? ENOMEM : error);
    }
    groups = bigger;
  }
  size_t count = size / sizeof(gid_t);

  napi_value result, list;
  if (napi_create_object(env, &result) != napi_ok || napi_create_array_with_length(env, count, &list) != napi_ok) {
    free(groups);
    CHECK(napi_generic_failure);
  }
  for (size_t i = 0; i < count; i++) {
    napi_value gid;
    if (napi_create_uint32(env, groups[i], &gid) != napi_ok || napi_set_element(env, list, i, gid) != napi_ok) {
      free(groups);
      CHECK(napi_generic_failure);
    }
  }
  free(groups);
  if (!set_number(env, result, "pid", cred.pid) || !set_number(env, result, "uid", cred.uid) ||
      !set_number(env, result, "gid", cred.gid))
    CHECK(napi_generic_failure);
  CHECK(napi_set_named_property(env, result, "groups", list));
  return result;
}

NAPI_MODULE_INIT() {
  napi_value function;
  CHECK(napi_create_function(env, "peerCredentials", NAPI_AUTO_LENGTH, peer_credentials, NULL, &function));
  CHECK(napi_set_named_property(env, exports, "peerCredentials", function));
  return exports;
}
