// compose-check validates a compose file with compose-go, the loader docker compose itself uses: it parses the
// YAML, interpolates variables, validates against the compose-spec JSON schema and runs the semantic checks
// (service references in depends_on, volumes, networks). Usage: compose-check [--env-file F] [--project-name N] <compose.yaml>
// Prints the normalized model as JSON on success (exit 0); the error on failure (exit 1); usage errors exit 2.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/compose-spec/compose-go/v2/cli"
)

func main() {
	envFile := flag.String("env-file", "", "env file used for interpolation (like docker compose --env-file)")
	projectName := flag.String("project-name", "iam-check", "compose project name")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: compose-check [--env-file F] [--project-name N] <compose.yaml>")
		os.Exit(2)
	}
	file, err := filepath.Abs(flag.Arg(0))
	if err != nil {
		fail(err)
	}
	opts := []cli.ProjectOptionsFn{
		cli.WithWorkingDirectory(filepath.Dir(file)),
		cli.WithName(*projectName),
		cli.WithOsEnv,
	}
	if *envFile != "" {
		opts = append(opts, cli.WithEnvFiles(*envFile))
	}
	opts = append(opts, cli.WithDotEnv)
	options, err := cli.NewProjectOptions([]string{file}, opts...)
	if err != nil {
		fail(err)
	}
	project, err := options.LoadProject(context.Background())
	if err != nil {
		fail(err)
	}
	out, err := json.MarshalIndent(project, "", "  ")
	if err != nil {
		fail(err)
	}
	fmt.Println(string(out))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "compose-check:", err)
	os.Exit(1)
}
