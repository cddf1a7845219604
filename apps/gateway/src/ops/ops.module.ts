import { Module } from '@nestjs/common';

/** Placeholder: filled by the ops work. Imported by AppModule. */
@Module({})
export class OpsModule {}
