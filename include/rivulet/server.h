/* server: Chantilly's HTTP JSON API for rivulet models (`rivulet serve`).
 *
 * Models are uploaded as definitions (River expression text) or snapshots,
 * predict on JSON features, keep learning from ground truth that arrives later
 * (matched by id), and report their metrics live. Every acknowledged learn is
 * durable: see store.h for the log-plus-checkpoints shape. docs/api.md
 * documents the endpoints with curl and Python examples.
 */
#ifndef RIVULET_SERVER_H
#define RIVULET_SERVER_H

/* Runs the server until SIGTERM or SIGINT, then drains and returns the exit
 * status. argv[0] is the program or verb name; flags (each also read from the
 * environment variable shown):
 *   --host H           RIVULET_HOST          127.0.0.1
 *   --port P           RIVULET_PORT          5000 (0 = any free port; printed)
 *   --db PATH          RIVULET_DB            ./rivulet.db
 *   --threads N        RIVULET_THREADS       256 (cap on concurrent connections)
 *   --token T          RIVULET_TOKEN         none (bearer token for changes)
 *   --max-body BYTES   RIVULET_MAX_BODY      67108864
 *   --timeout S        RIVULET_TIMEOUT       30 (idle connection timeout)
 *   --keep-ttl S       RIVULET_KEEP_TTL      604800 (kept predictions expire; 0 never)
 *   --checkpoint-every N RIVULET_CHECKPOINT_EVERY 10000 learns per model (at least)
 *   --port-file PATH   write the bound port there once listening (tests, scripts)
 *   --verbose          log each request
 *   --test-slow-learn-ms N  tests only: learns of events with a feature 'slow' sleep N ms
 */
int rv_serve_main(int argc, char **argv);

#endif
