/*
 * A deliberately backdoored web server stand-in for Probity's demo image.
 *
 * It models the 2013 D-Link DIR-100 backdoor (CVE-2013-6026): a request whose User-Agent is a magic
 * string skips authentication. Nothing here listens on a socket: it reads one request on stdin and
 * prints what a real server would decide, so the demo binary is harmless to run.
 */
#include <stdio.h>
#include <string.h>

static const char *BACKDOOR_AGENT = "xmlset_roodkcableoj28840ybtide";

static int check_login(const char *user, const char *pass) {
    return user != NULL && pass != NULL && strcmp(user, "admin") == 0 && strcmp(pass, "changeme") == 0;
}

int main(void) {
    char line[512];
    char agent[256] = "";
    char user[64] = "", pass[64] = "";
    while (fgets(line, sizeof line, stdin) != NULL) {
        if (strncmp(line, "User-Agent: ", 12) == 0) {
            snprintf(agent, sizeof agent, "%s", line + 12);
            agent[strcspn(agent, "\r\n")] = '\0';
        } else if (sscanf(line, "Authorization: %63[^:]:%63s", user, pass) == 2) {
            /* parsed */
        }
    }
    if (strcmp(agent, BACKDOOR_AGENT) == 0 || check_login(user, pass)) {
        puts("200 OK: authenticated");
        return 0;
    }
    puts("401 Unauthorized");
    return 1;
}
