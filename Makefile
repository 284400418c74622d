# lora-repro: common tasks. Everything runs offline; see README.md.
SHARED ?= ../shared
FIXTURES := $(wildcard $(SHARED)/fixtures/parity/*/)

.PHONY: setup build lint test test-long parity bench ci

setup:            ## install the exact dependency versions of package-lock.json
	npm ci

build:            ## type-check the sources (they run through tsx; there is no emit step)
	npx tsc --noEmit -p .

lint: build       ## strict type-check (no `any` leaks, unused code fails the build)

test:             ## the fast test suite (what CI runs)
	npm test

test-long:        ## also the long tests
	npm run test:long

parity:           ## check every parity fixture against the reference outputs
	@for f in $(FIXTURES); do node bin/lora-repro.mjs parity $$f || exit 1; done

bench:            ## training-step benchmark of the mini models (LoRA and full fine-tuning)
	@for m in mini-roberta mini-gpt2; do for k in lora ft; do node bin/lora-repro.mjs bench train --model $$m --method $$k; done; done

ci:
	bash .ci/run
