# lora-repro: common tasks. Everything runs offline; see README.md.
SHARED ?= ../shared
FIXTURES := $(wildcard $(SHARED)/fixtures/parity/*/)

.PHONY: native setup build lint test test-long parity bench ci table2 table3 smoke charts report readme-results analyze-real mlflow-ui section7 intrinsic notebooks notebooks-html

setup:            ## install the exact dependency versions of package-lock.json
	npm ci

build:            ## type-check the sources (they run through tsx; there is no emit step)
	npx tsc --noEmit -p .

lint: build       ## strict types, no dead exports (knip), imports only down the layers (dependency-cruiser)
	npx knip --no-progress
	npx depcruise src --config .dependency-cruiser.cjs  # import rules: the layer order of README "Architecture"

test:             ## the fast test suite (what CI runs)
	npm test

test-long:        ## also the long tests
	npm run test:long

parity:           ## check every parity fixture against the reference outputs
	@for f in $(FIXTURES); do node bin/lora-repro.mjs parity $$f || exit 1; done

native:           ## build the optional native kernels (C toolchain; OpenBLAS at run time)
	npm run build:native

bench:            ## ours vs the PyTorch reference (LoRA and full FT, seq 64/128/256) and GPT-2 decoding
	node bin/lora-repro.mjs bench compare --models bench-roberta,bench-gpt2 --seqs 64,128,256
	node bin/lora-repro.mjs bench decode

ci:
	bash .ci/run

# The main job (issue 7): run the spec (resumable; the offline stand-in models ship in artifacts/stand-ins/,
# else are pretrained once, cached),
# then print the table and write every format, the charts and the HTML report to results/<profile>/.
# PROFILE=mini (default) runs offline on a CPU; PROFILE=paper needs a GPU backend (tfjs-node-gpu), and
# PROFILE=paper REHEARSE=1 rehearses it on any backend (docs/paper-scale.md).
# Without a data directory (LORA_REPRO_DATA=none) the mini profile uses synthetic stand-in tasks.
RESULTS ?= results
# Without a data directory (LORA_REPRO_DATA=none, or no ../shared/data) the default is mini-synthetic.
PROFILE ?= $(if $(filter none,$(LORA_REPRO_DATA)),mini-synthetic,$(if $(LORA_REPRO_DATA)$(wildcard $(SHARED)/data/glue),mini,mini-synthetic))
WORKERS ?=
# REHEARSE=1: rehearse PROFILE (lora-repro run --rehearse: its models, data and chains, sizes capped) into
# results/<PROFILE>-rehearsal/. FILTER: one `lora-repro run --filter` expression (src/spec/README.md).
REHEARSE ?=
FILTER ?=
RESULTS_PROFILE = $(PROFILE)$(if $(REHEARSE),-rehearsal)
RUN_FLAGS = --results $(RESULTS) --quiet $(if $(WORKERS),--workers $(WORKERS)) $(if $(REHEARSE),--rehearse) $(if $(FILTER),--filter '$(FILTER)')
PROFILE_FLAG = --results $(RESULTS) --profile $(RESULTS_PROFILE)

# A failed run does not stop the rest: the table, charts and report are still written (its cells show
# '—' with the reason), and then make fails, so CI cannot be green with runs failing.
SPEC_DIR ?= experiments
define run_table
	@status=0; \
	node bin/lora-repro.mjs run $(SPEC_DIR)/table$(1).yaml --profile $(PROFILE) $(RUN_FLAGS) $(2) || status=$$?; \
	node bin/lora-repro.mjs table $(1) $(PROFILE_FLAG) || status=$$?; \
	node bin/lora-repro.mjs charts $(PROFILE_FLAG) >/dev/null || status=$$?; \
	node bin/lora-repro.mjs report $(PROFILE_FLAG) || status=$$?; \
	if [ $$status -ne 0 ]; then \
	  echo "make table$(1): FAILED (exit $$status): some runs of profile $(RESULTS_PROFILE) failed or did not finish (see above; their cells show '—' with the reason); run it again to retry them"; \
	  exit 1; \
	fi
endef

table2:           ## run Table 2 (GLUE) for PROFILE, print it, write results/<profile>/table2.*, charts, report.html
	$(call run_table,2)

table3:           ## run Table 3 (E2E) for PROFILE, print it, write results/<profile>/table3.*, charts, report.html
	$(call run_table,3)

# Paper Section 7 and intrinsic dimension (issue 24): experiments/section7.yaml and intrinsic.yaml run
# into their own results roots (results/section7/<profile>/, results/intrinsic/<profile>/), so Tables 2
# and 3 never see their runs; `lora-repro analyze section7|intrinsic` then writes the tables
# (section7.*, intrinsic.*), charts (charts/section7-*, charts/intrinsic-*) and pages (section7.html,
# intrinsic.html) to results/<profile>/, beside Tables 2 and 3. PROFILE: mini (default), smoke or paper;
# these specs need the data directory (no mini-synthetic profile). `make intrinsic` after `make section7`
# also plots LoRA's scores from results/section7/<profile>/ at LoRA's counts.
STUDY_PROFILE = $(if $(filter mini-synthetic,$(PROFILE)),mini,$(PROFILE))
define run_study
	@status=0; \
	node bin/lora-repro.mjs run $(SPEC_DIR)/$(1).yaml --profile $(STUDY_PROFILE) --results $(RESULTS)/$(1) --quiet $(if $(WORKERS),--workers $(WORKERS)) $(if $(REHEARSE),--rehearse) $(if $(FILTER),--filter '$(FILTER)') || status=$$?; \
	node bin/lora-repro.mjs analyze $(1) --results $(RESULTS)/$(1) --profile $(STUDY_PROFILE)$(if $(REHEARSE),-rehearsal) --out $(RESULTS)/$(STUDY_PROFILE)$(if $(REHEARSE),-rehearsal) || status=$$?; \
	if [ $$status -ne 0 ]; then \
	  echo "make $(1): FAILED (exit $$status): some runs of profile $(STUDY_PROFILE) failed or did not finish (see above); run it again to retry them"; \
	  exit 1; \
	fi
endef

section7:         ## paper Section 7 (Tables 5-7, Figures 3-4) for PROFILE: runs, then results/<profile>/section7.{md,tex,csv,json,html} + charts
	$(call run_study,section7)

intrinsic:        ## intrinsic dimension (d_int90 beside LoRA's counts) for PROFILE: runs, then results/<profile>/intrinsic.* + chart
	$(call run_study,intrinsic)

# Smoke runs the shipped stand-ins (artifacts/stand-ins/, docs/stand-ins.md) and insists on them
# (LORA_REPRO_REQUIRE_SHIPPED=1): an export that no longer fits the data corpus or the pretraining
# settings fails, naming the fix, instead of pretraining for 45 minutes. Without a data directory
# (synthetic corpus, which nothing ships for) it pretrains 60-step models.
SMOKE_ENV = $(if $(filter none,$(LORA_REPRO_DATA)),LORA_REPRO_PRETRAIN_STEPS=60,$(if $(LORA_REPRO_DATA)$(wildcard $(SHARED)/data/glue),LORA_REPRO_REQUIRE_SHIPPED=1,LORA_REPRO_PRETRAIN_STEPS=60))

smoke:            ## a few-minute cut of both tables (profile smoke, the shipped stand-in models), as CI runs it
	@status=0; \
	$(SMOKE_ENV) $(MAKE) table2 PROFILE=smoke || status=1; \
	$(SMOKE_ENV) $(MAKE) table3 PROFILE=smoke || status=1; \
	if [ $$status -ne 0 ]; then echo "make smoke: FAILED: a table had failed runs (see above)"; fi; \
	exit $$status

charts:           ## every chart of results/<profile>/ as SVG + PNG (results/<profile>/charts/)
	@node bin/lora-repro.mjs charts $(PROFILE_FLAG)

report:           ## results/<profile>/report.html: tables, charts, subspace analyses, MLflow links
	@node bin/lora-repro.mjs report $(PROFILE_FLAG)

# The README's results block (between <!-- results:<profile>:begin/end --> markers) from
# results/<profile>/table{2,3}.json; test/readme-results.test.ts fails while they disagree. Profile: PROFILE
# when given on the command line or in the environment, else mini (not the data-dependent default above).
README_PROFILE = $(if $(filter command line environment,$(origin PROFILE)),$(PROFILE),mini)
readme-results:   ## rewrite README.md's results block of PROFILE (default mini) from results/<profile>/table{2,3}.json
	@node bin/lora-repro.mjs summary --results $(RESULTS) --profile $(README_PROFILE) --write README.md

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

# Notebooks (notebooks/*.ipynb, README "Notebooks"): TypeScript on Deno's Jupyter kernel, from the pinned deno
# devDependency. Jupyter itself: Debian's jupyter-notebook (or jupyter-nbconvert for the HTML only), or pip's
# jupyterlab. Profile: PROFILE when given, else the committed mini results (as readme-results).
DENO = node_modules/.bin/deno
NOTEBOOK_PROFILE = $(if $(filter command line environment,$(origin PROFILE)),$(PROFILE),mini)
notebooks:        ## install the Deno kernel spec and open notebooks/ in Jupyter (JupyterLab if installed, else Notebook)
	@test -x $(DENO) || { echo "make notebooks: no $(DENO); run npm ci"; exit 1; }
	@$(DENO) jupyter --install --force 2>/dev/null
	@if command -v jupyter-lab >/dev/null; then exec jupyter lab notebooks/; \
	elif command -v jupyter-notebook >/dev/null; then exec jupyter notebook notebooks/; \
	else echo "make notebooks: no Jupyter; apt-get install jupyter-notebook (Debian) or pip install jupyterlab"; exit 1; fi

notebooks-html:   ## run every notebook on results/<profile> (PROFILE, default mini) and write it with outputs as HTML to results/<profile>/notebooks/
	@test -x $(DENO) || { echo "make notebooks-html: no $(DENO); run npm ci"; exit 1; }
	@command -v jupyter-nbconvert >/dev/null || { echo "make notebooks-html: no jupyter-nbconvert; apt-get install jupyter-nbconvert python3-nbclient"; exit 1; }
	@$(DENO) jupyter --install --force 2>/dev/null
	LORA_REPRO_PROFILE=$(NOTEBOOK_PROFILE) LORA_REPRO_RESULTS=$(abspath $(RESULTS)) jupyter nbconvert --to html --execute \
	  --ExecutePreprocessor.kernel_name=deno --ExecutePreprocessor.startup_timeout=300 \
	  --output-dir $(RESULTS)/$(NOTEBOOK_PROFILE)/notebooks notebooks/*.ipynb
