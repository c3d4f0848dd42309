/*
 * The boot storm's getConfig clients in C with OpenSSL, as a booting guest's own client (openssl in
 * tiny-os, curl in Debian) is, for `BENCH_STORM_CLIENT=c`: to measure whether Node's TLS client is
 * what makes the load generator cost the shared cores so much (it is not: Debian's OpenSSL 3.0 with a
 * verified chain costs about as much per handshake). bench/native-guest-client.ts builds and drives it. Every guest gets a full handshake (no session is
 * ever reused), the listener's chain is verified against the manager's CA and `storm.local` each time.
 *
 * stdin, one line per guest: `ID SOURCE-IP PORT TOKEN NAME`; stdout: `ok ID` or `fail ID REASON`.
 * Usage: storm-guest-client CA-FILE
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static const char BODY[] =
    "<?xml version=\"1.0\"?><methodCall><methodName>storm.getConfig</methodName><params></params></methodCall>";

static int active;

struct guest {
  long id;
  int fd;
  SSL *ssl;
  int sent;
  char name[64];
  char *request;
  size_t request_len;
  char *reply;
  size_t reply_len, reply_cap;
};

static void finish(int ep, struct guest *g, const char *failure) {
  if (failure) printf("fail %ld %s\n", g->id, failure);
  else printf("ok %ld\n", g->id);
  fflush(stdout);
  active--;
  epoll_ctl(ep, EPOLL_CTL_DEL, g->fd, NULL);
  SSL_free(g->ssl);
  close(g->fd);
  free(g->request);
  free(g->reply);
  free(g);
}

static void check_reply(int ep, struct guest *g) {
  char want[96];
  snprintf(want, sizeof want, "<string>%s</string>", g->name);
  g->reply[g->reply_len] = 0;
  if (strncmp(g->reply, "HTTP/1.1 200", 12) != 0) finish(ep, g, "not 200");
  else if (!strstr(g->reply, want) || strstr(g->reply, "<fault>")) finish(ep, g, "another guest's configuration or a fault");
  else finish(ep, g, NULL);
}

/* Advances one guest as far as its socket allows: handshake, request, reply until the server closes. */
static void step(int ep, struct guest *g) {
  for (;;) {
    int r;
    if (!SSL_is_init_finished(g->ssl)) r = SSL_do_handshake(g->ssl);
    else if (g->sent < (int)g->request_len) {
      r = SSL_write(g->ssl, g->request + g->sent, (int)g->request_len - g->sent);
      if (r > 0) g->sent += r;
    } else {
      if (g->reply_cap - g->reply_len < 4096) {
        g->reply_cap = g->reply_cap * 2 + 8192;
        g->reply = realloc(g->reply, g->reply_cap + 1);
      }
      r = SSL_read(g->ssl, g->reply + g->reply_len, (int)(g->reply_cap - g->reply_len));
      if (r > 0) g->reply_len += r;
    }
    if (r > 0) continue;
    int e = SSL_get_error(g->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
      struct epoll_event ev = {.events = e == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT, .data.ptr = g};
      epoll_ctl(ep, EPOLL_CTL_MOD, g->fd, &ev);
      return;
    }
    // The server closes after its answer (Connection: close): a clean or an abrupt end both end the reply.
    if (SSL_is_init_finished(g->ssl) && g->sent == (int)g->request_len && (e == SSL_ERROR_ZERO_RETURN || e == SSL_ERROR_SYSCALL))
      return check_reply(ep, g);
    char reason[160];
    long verify = SSL_get_verify_result(g->ssl);
    snprintf(reason, sizeof reason, "tls error %d (%s; verify: %s)", e, ERR_reason_error_string(ERR_peek_last_error()) ?: "-",
             X509_verify_cert_error_string(verify));
    ERR_clear_error();
    return finish(ep, g, reason);
  }
}

static void start(int ep, SSL_CTX *ctx, char *line) {
  long id;
  char ip[64], token[256], name[64];
  int port;
  if (sscanf(line, "%ld %63s %d %255s %63s", &id, ip, &port, token, name) != 5) return;
  struct guest *g = calloc(1, sizeof *g);
  active++;
  g->id = id;
  snprintf(g->name, sizeof g->name, "%s", name);
  size_t cap = strlen(token) + sizeof BODY + 256;
  g->request = malloc(cap);
  g->request_len = (size_t)snprintf(g->request, cap,
                                    "POST /RPC2 HTTP/1.1\r\nHost: storm.local\r\nAuthorization: Bearer %s\r\nContent-Type: "
                                    "text/xml\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
                                    token, sizeof BODY - 1, BODY);
  g->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int one = 1;
  setsockopt(g->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  // From the guest's own address, as the listener caps each address's connections.
  struct sockaddr_in local = {.sin_family = AF_INET};
  inet_pton(AF_INET, ip, &local.sin_addr);
  struct sockaddr_in server = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
  inet_pton(AF_INET, "127.0.0.1", &server.sin_addr);
  struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = g};
  g->ssl = SSL_new(ctx);
  SSL_set_fd(g->ssl, g->fd);
  SSL_set_connect_state(g->ssl);
  SSL_set_tlsext_host_name(g->ssl, "storm.local");
  SSL_set1_host(g->ssl, "storm.local");
  if (bind(g->fd, (struct sockaddr *)&local, sizeof local) != 0 ||
      (connect(g->fd, (struct sockaddr *)&server, sizeof server) != 0 && errno != EINPROGRESS)) {
    epoll_ctl(ep, EPOLL_CTL_ADD, g->fd, &ev);
    return finish(ep, g, strerror(errno));
  }
  epoll_ctl(ep, EPOLL_CTL_ADD, g->fd, &ev);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: storm-guest-client CA-FILE < guests\n");
    return 2;
  }
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  // A booting guest connects once: no session is kept, so every connection is a full handshake.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
  if (SSL_CTX_load_verify_locations(ctx, argv[1], NULL) != 1) {
    fprintf(stderr, "storm-guest-client: cannot load %s\n", argv[1]);
    return 1;
  }
  int ep = epoll_create1(0);
  fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
  struct epoll_event in = {.events = EPOLLIN, .data.ptr = NULL};
  epoll_ctl(ep, EPOLL_CTL_ADD, 0, &in);
  char buf[65536];
  size_t have = 0;
  int input_open = 1;
  struct epoll_event events[256];
  for (;;) {
    if (!input_open && active == 0) break;
    int n = epoll_wait(ep, events, 256, -1);
    for (int i = 0; i < n; i++) {
      if (events[i].data.ptr) {
        step(ep, events[i].data.ptr);
        continue;
      }
      ssize_t r = read(0, buf + have, sizeof buf - 1 - have);
      if (r <= 0) {
        if (r == 0 || errno != EAGAIN) {
          input_open = 0;
          epoll_ctl(ep, EPOLL_CTL_DEL, 0, NULL);
        }
        continue;
      }
      have += (size_t)r;
      char *line = buf, *nl;
      while ((nl = memchr(line, '\n', have - (size_t)(line - buf)))) {
        *nl = 0;
        start(ep, ctx, line);
        line = nl + 1;
      }
      have -= (size_t)(line - buf);
      memmove(buf, line, have);
    }
  }
  SSL_CTX_free(ctx);
  return 0;
}
