# e2e.reset_recordings: a CTest run's recordings start empty. Removes the OpenAPI recording and the
# secrets/votes recording, and touches the marker whose time tells security.logs which log files
# this run wrote (older ones are another run's, with secrets this run did not record).
#   cmake -DDIR=<build>/test-tmp -P reset_recordings.cmake
file(MAKE_DIRECTORY "${DIR}")
file(REMOVE "${DIR}/responses.jsonl" "${DIR}/secrets.jsonl")
file(TOUCH "${DIR}/recordings.started")
