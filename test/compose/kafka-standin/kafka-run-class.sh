#!/bin/bash
# Runs a Kafka main class on the image's jars, as the distribution's script of the same name.
exec java ${KAFKA_HEAP_OPTS:--Xmx512m} ${KAFKA_OPTS:-} -cp '/opt/kafka/libs/*' "$@"
