# Grading image: CPU-only torch, the project, a course folder. Build from the course repository root:
#   docker build -t nn-grader .
# Runs `grade` as the unprivileged user `grader` by default. For the full sandbox (a fresh uid per
# submission, mount/IPC/network namespaces) run it as root with the settings in docs/deploy.md and
# docs/security.md ("Containers"); `grade doctor` prints which walls the container gives.
FROM python:3.11-slim

ENV PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1

# CPU wheels only: the default index would pull several GB of CUDA libraries.
RUN pip install --index-url https://download.pytorch.org/whl/cpu "torch>=2.2,<2.14"

WORKDIR /course
COPY pyproject.toml README.md grader/cli.py course.toml ./
COPY grader ./grader
RUN pip install ".[staff]"
COPY exercises ./exercises
COPY solutions ./solutions
COPY autograder_tests ./autograder_tests
COPY data ./data

# Secrets (hidden tests, solutions, data) readable by root only: a sandbox uid never reads them,
# even where no mount namespace can be had.
RUN chmod -R go-rwx /course/solutions /course/autograder_tests /course/data \
    && useradd --uid 10001 --create-home grader

USER grader
ENTRYPOINT ["grade"]
CMD ["--help"]
