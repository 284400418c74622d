# lora-repro: common tasks. Everything runs offline; see README.md.
SHARED ?= ../shared
FIXTURES := $(wildcard $(SHARED)/fixtures/parity/*/)

.PHONY: setup build lint test test-long parity bench ci table2 table3 charts report analyze-real mlflow-ui

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

# Reports (issue 6). PROFILE=<name> picks $(RESULTS)/<name>/ (default: the only profile there).
RESULTS ?= results
PROFILE ?=
PROFILE_FLAG = --results $(RESULTS) $(if $(PROFILE),--profile $(PROFILE))

table2:           ## Table 2 (GLUE) from results/: prints Markdown, writes results/<profile>/table2.{md,tex,csv,json}
	@node bin/lora-repro.mjs table 2 $(PROFILE_FLAG)

table3:           ## Table 3 (E2E) from results/: prints Markdown, writes results/<profile>/table3.{md,tex,csv,json}
	@node bin/lora-repro.mjs table 3 $(PROFILE_FLAG)

charts:           ## every chart of results/<profile>/ as SVG + PNG (results/<profile>/charts/)
	@node bin/lora-repro.mjs charts $(PROFILE_FLAG)

report:           ## results/<profile>/report.html: tables, charts, subspace analyses, MLflow links
	@node bin/lora-repro.mjs report $(PROFILE_FLAG)

analyze-real:     ## subspace analysis of the real roberta-base MNLI LoRA (results/reference/analysis/)
	@node bin/lora-repro.mjs analyze subspace --a $(SHARED)/fixtures/real-lora/roberta-base-mnli-lora.safetensors --alpha 16 --name real-roberta-base-mnli

# MLflow UI: a local tracking server (pip install mlflow). Then, in another shell:
#   export MLFLOW_TRACKING_URI=http://127.0.0.1:$(MLFLOW_PORT)
#   lora-repro run experiments/table2.yaml --profile mini
MLFLOW_PORT ?= 5000
mlflow-ui:        ## start a local MLflow server with artifact serving on 127.0.0.1:$(MLFLOW_PORT) (sqlite:///mlflow.db)
	@command -v mlflow >/dev/null || { echo "mlflow is not installed: pip install mlflow"; exit 1; }
	@echo "MLflow UI: http://127.0.0.1:$(MLFLOW_PORT)   runner: export MLFLOW_TRACKING_URI=http://127.0.0.1:$(MLFLOW_PORT)"
	mlflow server --backend-store-uri sqlite:///mlflow.db --serve-artifacts --host 127.0.0.1 --port $(MLFLOW_PORT)
